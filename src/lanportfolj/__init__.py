"""lanportfolj: a municipal lender's social-sustainability loans and the social bond behind them."""

__version__ = "0.1.0"
