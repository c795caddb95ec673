from trainlab.cli import run

run()
