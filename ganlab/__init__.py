"""ganlab: the Streamlit UI of the GAN lab. Layout, schedules and I/O of the screen; it only calls gan_core.

One module per region of the page, each drawing it with one ``*_ui()`` function; ``pages/`` holds the three
pages that ``app.py`` navigates between (Train, Explore, Runs); ``keys`` names every session-state key.
"""
