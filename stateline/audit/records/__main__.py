"""`python -m stateline.audit.records` writes every kind's schema file again."""

from .schema import write_schemas

for path in write_schemas():
    print(path)
