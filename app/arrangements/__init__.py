"""Payment arrangements: promises to pay and instalment plans for a customer's invoices."""
