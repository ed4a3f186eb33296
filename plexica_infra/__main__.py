from plexica_infra.cli import main

main()
