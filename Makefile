# Everything a new machine needs beyond Python 3.11 and pip goes into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample_graphs/wheat_seeds.json

.PHONY: run test bench screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[editor,sweep,fast,onnx,test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gradhopper $(SAMPLE)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# The editor mid-run on the seeds sample, drawn under a virtual X server into docs/screenshot.png.
SCREENSHOT_DEBS := xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
screenshot: $(STAMP)
	@dpkg -s $(SCREENSHOT_DEBS) >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends $(SCREENSHOT_DEBS))
	mkdir -p docs
	xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
		$(BIN)/python -m gradhopper.editor.screenshot $(SAMPLE) docs/screenshot.png

clean:
	rm -rf $(VENV) build *.egg-info
