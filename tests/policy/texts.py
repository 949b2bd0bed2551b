"""Policy texts several policy tests decide by."""

BLOCK_ICE_REVIEW_HSI = """\
@id("cj-baseline")
@reason("Criminal-justice agencies may query.")
permit (principal, action in Action::"query", resource) when { principal.criminal_justice };

@id("release-standard")
@reason("Standard elements go to every agency allowed to query.")
permit (principal, action == Action::"release", resource in ElementGroup::"standard");

@id("release-sensitive-in-state")
@reason("Photos, card type and SSN stay in the state.")
permit (principal in Category::"in-state", action == Action::"release",
        resource in ElementGroup::"sensitive");

@id("block-ice")
@reason("No state resources for civil immigration enforcement without a court order.")
forbid (principal in Category::"ICE", action in Action::"query", resource)
unless { context.court_order };

@id("hsi-held")
@reason("HSI queries are reviewed case by case.")
forbid (principal in Category::"HSI", action in Action::"query", resource);

@id("hsi-review")
@reason("A coordinator reviews HSI queries.")
permit (principal in Category::"HSI", action == Action::"review", resource);
"""
