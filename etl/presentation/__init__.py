"""What people read: the terminal progress and answers, `etl show`, and the HTML report. No orchestration,
no Spark (import contract `presentation-without-orchestration`).
"""
