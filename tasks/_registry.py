"""Entry point for Inspect: importing this module registers every task as `tasks/<name>`."""

from tasks.medbullets import medbullets
from tasks.medcalc_bench import medcalc_bench
from tasks.medmcqa import medmcqa
from tasks.medqa import medqa
from tasks.medxpertqa import medxpertqa
from tasks.mmlu_medical import mmlu_medical
from tasks.mmlu_pro_health import mmlu_pro_health
from tasks.pubmedqa import pubmedqa
