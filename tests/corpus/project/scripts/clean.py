#!/usr/bin/env python3
"""Remove the generated sources. (Do not call shutil.rmtree on anything else.)"""
import shutil


def main() -> None:
    shutil.rmtree("src")


if __name__ == "__main__":
    main()
