"""Customers and their receivables as the ERP reports them: master data, invoices, payments, exchange rates."""
