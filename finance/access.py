"""Who sees and does what in finance: the Finance role (finance.manage_finance) everything,
admins (finance.view_finance) read-only, nobody else; a partner's contact only their own
partner's statements (partners.access)."""

MANAGE_FINANCE = "finance.manage_finance"
VIEW_FINANCE = "finance.view_finance"
