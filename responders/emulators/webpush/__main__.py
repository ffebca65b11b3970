"""`python -m responders.emulators.webpush [--host H] [--port P]`: serve until interrupted."""

from responders.emulators.webpush.server import main

if __name__ == "__main__":
    main()
