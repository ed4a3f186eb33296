from plexica_infra.core_api._cli import main

main()
