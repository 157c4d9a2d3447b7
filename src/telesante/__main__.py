from telesante.cli import main

main()
