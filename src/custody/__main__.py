from custody.cli.main import main

main()
