from stemmen.cli import main

main()
