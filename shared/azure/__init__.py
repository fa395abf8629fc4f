"""Adapters to Azure: clients, credential, labs, VMs, images, disks, operations, blobs, catalog,
retirement, sweep, errors, the run queue."""
