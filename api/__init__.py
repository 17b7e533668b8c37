"""The imperative shell: command line, web service, storage."""
