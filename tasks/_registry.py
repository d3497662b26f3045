"""Entry point for Inspect: importing this module registers every task as `tasks/<name>`."""

from tasks.clinical_reasoning import clinical_reasoning
from tasks.data_quality import data_quality
from tasks.healthbench import healthbench, healthbench_meta_eval
from tasks.medbullets import medbullets
from tasks.medcalc_bench import medcalc_bench
from tasks.medmcqa import medmcqa
from tasks.medqa import medqa
from tasks.medxpertqa import medxpertqa
from tasks.mmlu_medical import mmlu_medical
from tasks.mmlu_pro_health import mmlu_pro_health
from tasks.pubmedqa import pubmedqa
from tasks.synthetic import synthetic_mcq
