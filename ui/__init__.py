"""The Streamlit page, by part; app.py puts them together."""
