#!/usr/bin/env python
from haocha.cli import main

if __name__ == "__main__":
    main()
