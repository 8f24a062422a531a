"""Registrations a month from expiring are warned about (daily, per institution)."""
