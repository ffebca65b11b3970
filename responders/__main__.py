from responders.cli import main

raise SystemExit(main())
