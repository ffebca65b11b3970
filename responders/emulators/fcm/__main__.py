"""`python -m responders.emulators.fcm [--host H] [--port P] ...`: serve until interrupted."""

from responders.emulators.fcm.server import main

if __name__ == "__main__":
    main()
