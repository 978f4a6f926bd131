"""`python -m appliance.schema`: regenerate appliance-status.schema.json from the model."""

from appliance.schema import write_schema

print(write_schema())
