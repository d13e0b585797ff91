"""Action plans for reps: composing a plan from results (compose, model), the sandboxed Jinja
playbooks and their checks (playbook, flat_templates, playbook_check), writing files (files, docx).
May import every layer below it; never console."""
