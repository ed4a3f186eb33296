from plexica_infra.localenv.cli import main

raise SystemExit(main())
