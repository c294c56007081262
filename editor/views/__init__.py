"""The learning views' panels (DESIGN.md "Learning views"): what each draws is computed by a pure
function in data.py from the view's input values; panels.py draws it with pyqtgraph."""
