from devstore.cli import main

raise SystemExit(main())
