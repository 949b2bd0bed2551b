"""`python -m stateline.roles ROLE ...`: one role of `stateline serve`, as its supervisor
starts it. The command line names the role and its states, so `ps` shows which process
serves WA:

    python -m stateline.roles gateway WA OR --data DIR --socket RUN/gateway-WA-OR.sock
    python -m stateline.roles switch --data DIR --socket RUN/switch.sock --gateway SOCKET=WA,OR
    python -m stateline.roles web --data DIR --socket RUN/switch.sock --port 8750
"""

from __future__ import annotations

from .processes import main

main()
