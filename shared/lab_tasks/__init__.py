"""Single-step lab tasks for any CI: `imagefactory lab vm|image|env create|update|delete`.

They replace the Azure DevTest Labs extension's tasks for Azure DevOps (Create VM, Delete
VM, Create Custom Image, Delete Custom Image, Create Environment, Update Environment,
Delete Environment) with commands that talk to Azure through the same SDK clients and
settings as the factory, wait for their operations and write CI output variables.
"""
