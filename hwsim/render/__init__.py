"""How results look: Markdown tables and matplotlib figures, for every report and command."""
