#!/bin/sh
# Start over: removes generated output and the local data.
set -e
rm -rf build dist
/bin/rm -rf data
