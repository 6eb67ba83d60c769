from digest.cli.main import main

if __name__ == "__main__":  # not when a spawned sender process imports it
    main()
