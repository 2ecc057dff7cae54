"""Pure helpers without models: identity-number validation, masking, redaction."""
