from winfix.cli import main

raise SystemExit(main())
