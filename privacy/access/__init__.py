"""A learner's access request (POPIA section 23): everything held about one person, gathered
from every area (holdings), written as a ZIP with a readable index (archive), requested and
fulfilled through services and a task."""
