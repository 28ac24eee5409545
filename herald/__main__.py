"""`python -m herald`: the command-line program."""

from herald.cli import main

if __name__ == "__main__":
    main()
