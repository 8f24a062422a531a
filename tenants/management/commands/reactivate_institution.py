from tenants.management.commands.suspend_institution import ReactivateCommand as Command

__all__ = ["Command"]
