"""The patient's GDPR rights: access (export), erasure, and pseudonymised research exports."""
