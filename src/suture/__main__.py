from suture.cli.app import main

main()
