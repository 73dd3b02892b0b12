"""DealerCover camera agent: reads plates and codes at the store gate, reports them to the app."""

__version__ = "0.1.0"
