"""The imagefactory command line and its terminal views."""
