from webhost.cli import main

main()
