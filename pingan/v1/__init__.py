"""Generated gRPC contract stubs (python proto/generate.py). Never edit by hand."""
