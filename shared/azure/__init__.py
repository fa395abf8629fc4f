"""Adapters to Azure: clients, credential, labs, disks, blobs, catalog, retirement."""
