"""Kolada key figures: the API client (``client``), its database cache (``cache``), an offline stand-in
(``offline``) and the service that brings a loan's figures in through the import path (``fetch``)."""
