"""Read models that span domains (a customer's credit file, the portfolio): above every domain, below the API."""
