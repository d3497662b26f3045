"""The conditions of the synthetic clinical world: findings, look-alikes, red flags, management.

Hand-written for the demo from standard textbook presentations. Each condition has
*key* findings that discriminate it, *supportive* findings, look-alike conditions
(its differential), a red flag, first-line management and the kind of evidence a
clinician would cite. Nonspecific findings are shared across conditions and are what
makes a hard case hard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    """One diagnosis in the synthetic world."""

    name: str
    system: str
    key: tuple[str, ...]
    supportive: tuple[str, ...]
    look_alikes: tuple[str, ...]
    red_flag: str
    management: str
    evidence: str
    sexes: tuple[str, ...] = ("man", "woman")
    ages: tuple[int, int] = (18, 85)


NONSPECIFIC = (
    "fatigue",
    "nausea",
    "a low-grade fever",
    "tachycardia",
    "mild dehydration",
    "malaise",
    "a headache",
    "anxiety",
    "poor sleep",
    "a recent upper respiratory infection",
)

COMORBIDITIES = (
    "hypertension",
    "type 2 diabetes",
    "hyperlipidaemia",
    "a 20-pack-year smoking history",
    "osteoarthritis",
    "gastro-oesophageal reflux",
    "well-controlled asthma",
    "obesity",
)

CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "myocardial infarction",
        "cardiovascular",
        (
            "crushing substernal chest pain radiating to the left arm",
            "ST elevation in leads II, III and aVF",
            "an elevated troponin",
        ),
        ("diaphoresis", "pain not relieved by rest", "a history of hypercholesterolaemia"),
        ("aortic dissection", "pulmonary embolism", "pericarditis"),
        "hypotension with a new murmur",
        "aspirin and emergent percutaneous coronary intervention",
        "ACC/AHA STEMI guideline",
        ages=(40, 85),
    ),
    Condition(
        "aortic dissection",
        "cardiovascular",
        (
            "tearing chest pain radiating to the back",
            "a blood pressure difference of 30 mmHg between the arms",
            "a widened mediastinum on chest X-ray",
        ),
        ("long-standing poorly controlled hypertension", "a new diastolic murmur"),
        ("myocardial infarction", "pulmonary embolism", "pericarditis"),
        "signs of malperfusion such as a cold, pulseless leg",
        "CT angiography, intravenous beta-blockade and urgent surgical review",
        "ESC aortic disease guideline",
        ages=(45, 85),
    ),
    Condition(
        "pulmonary embolism",
        "respiratory",
        (
            "sudden pleuritic chest pain",
            "a swollen, tender left calf",
            "hypoxaemia with a clear chest X-ray",
        ),
        ("recent hip surgery", "a 12-hour flight last week", "haemoptysis"),
        ("myocardial infarction", "community-acquired pneumonia", "pneumothorax"),
        "hypotension or right ventricular strain",
        "CT pulmonary angiography and anticoagulation",
        "ESC acute pulmonary embolism guideline",
    ),
    Condition(
        "pericarditis",
        "cardiovascular",
        (
            "sharp chest pain relieved by sitting forward",
            "a pericardial friction rub",
            "diffuse ST elevation with PR depression",
        ),
        ("a recent viral illness", "pain worse on inspiration"),
        ("myocardial infarction", "aortic dissection", "pulmonary embolism"),
        "pulsus paradoxus suggesting tamponade",
        "NSAIDs with colchicine",
        "ESC pericardial disease guideline",
        ages=(18, 60),
    ),
    Condition(
        "pneumothorax",
        "respiratory",
        (
            "sudden unilateral chest pain with dyspnoea",
            "absent breath sounds on one side",
            "hyperresonance to percussion",
        ),
        ("a tall, thin body habitus", "a smoking history"),
        ("pulmonary embolism", "myocardial infarction", "community-acquired pneumonia"),
        "tracheal deviation with hypotension (tension physiology)",
        "chest X-ray and needle aspiration or chest drain according to size",
        "BTS pleural disease guideline",
        ages=(18, 40),
    ),
    Condition(
        "community-acquired pneumonia",
        "respiratory",
        (
            "a productive cough with rusty sputum",
            "focal crackles with bronchial breathing",
            "lobar consolidation on chest X-ray",
        ),
        ("fever with rigors", "raised CRP"),
        ("pulmonary embolism", "heart failure", "pneumothorax"),
        "confusion, respiratory rate above 30 or low blood pressure (a high CURB-65)",
        "CURB-65 assessment and empirical antibiotics",
        "BTS/NICE community-acquired pneumonia guideline",
    ),
    Condition(
        "heart failure",
        "cardiovascular",
        (
            "orthopnoea and paroxysmal nocturnal dyspnoea",
            "bibasal crackles with raised jugular venous pressure",
            "a raised BNP",
        ),
        ("bilateral ankle oedema", "a prior myocardial infarction"),
        ("community-acquired pneumonia", "pulmonary embolism", "myocardial infarction"),
        "cardiogenic shock",
        "intravenous loop diuretics and echocardiography",
        "ESC heart failure guideline",
        ages=(55, 90),
    ),
    Condition(
        "appendicitis",
        "gastrointestinal",
        (
            "periumbilical pain migrating to the right iliac fossa",
            "tenderness at McBurney's point",
            "anorexia",
        ),
        ("a raised white cell count", "pain on coughing"),
        ("cholecystitis", "ectopic pregnancy", "pyelonephritis"),
        "generalised peritonism suggesting perforation",
        "surgical review and appendicectomy",
        "WSES appendicitis guideline",
        ages=(10, 45),
    ),
    Condition(
        "cholecystitis",
        "gastrointestinal",
        (
            "right upper quadrant pain after a fatty meal",
            "a positive Murphy's sign",
            "a thickened gallbladder wall with stones on ultrasound",
        ),
        ("fever", "previous episodes of biliary colic"),
        ("appendicitis", "pyelonephritis", "myocardial infarction"),
        "jaundice with fever and rigors suggesting cholangitis",
        "intravenous antibiotics and early laparoscopic cholecystectomy",
        "Tokyo guidelines for acute cholecystitis",
        ages=(30, 75),
    ),
    Condition(
        "pyelonephritis",
        "renal",
        (
            "fever with flank pain",
            "costovertebral angle tenderness",
            "white cell casts in the urine",
        ),
        ("dysuria and frequency", "nitrites on urinalysis"),
        ("appendicitis", "cholecystitis", "ectopic pregnancy"),
        "hypotension suggesting urosepsis",
        "urine culture and antibiotics such as a fluoroquinolone or ceftriaxone",
        "IDSA urinary tract infection guideline",
    ),
    Condition(
        "ectopic pregnancy",
        "gynaecological",
        (
            "six weeks of amenorrhoea with vaginal spotting",
            "unilateral pelvic pain",
            "a positive hCG with an empty uterus on ultrasound",
        ),
        ("a history of pelvic inflammatory disease", "shoulder-tip pain"),
        ("appendicitis", "pyelonephritis", "ovarian torsion"),
        "haemodynamic instability suggesting rupture",
        "urgent gynaecology review for methotrexate or laparoscopy",
        "RCOG ectopic pregnancy guideline",
        sexes=("woman",),
        ages=(18, 42),
    ),
    Condition(
        "ovarian torsion",
        "gynaecological",
        (
            "sudden severe unilateral pelvic pain with vomiting",
            "an adnexal mass on ultrasound",
            "absent ovarian Doppler flow",
        ),
        ("pain coming in waves", "a known ovarian cyst"),
        ("ectopic pregnancy", "appendicitis", "pyelonephritis"),
        "prolonged pain suggesting ovarian necrosis",
        "emergency laparoscopic detorsion",
        "ACOG adnexal torsion opinion",
        sexes=("woman",),
        ages=(15, 45),
    ),
    Condition(
        "diabetic ketoacidosis",
        "endocrine",
        (
            "Kussmaul breathing with a fruity odour",
            "glucose of 32 mmol/L with ketonaemia",
            "a high anion gap metabolic acidosis",
        ),
        ("polyuria and polydipsia", "abdominal pain and vomiting"),
        ("hyperosmolar hyperglycaemic state", "sepsis", "appendicitis"),
        "a reduced level of consciousness or potassium below 3.5 mmol/L",
        "intravenous fluids, fixed-rate insulin and potassium replacement",
        "JBDS diabetic ketoacidosis guideline",
        ages=(12, 40),
    ),
    Condition(
        "hyperosmolar hyperglycaemic state",
        "endocrine",
        (
            "glucose above 40 mmol/L without significant ketosis",
            "serum osmolality above 320 mOsm/kg",
            "several days of confusion and profound dehydration",
        ),
        ("known type 2 diabetes", "a recent infection"),
        ("diabetic ketoacidosis", "ischaemic stroke", "sepsis"),
        "seizures or coma",
        "cautious intravenous fluid replacement before insulin",
        "JBDS hyperosmolar hyperglycaemic state guideline",
        ages=(55, 90),
    ),
    Condition(
        "bacterial meningitis",
        "neurological",
        (
            "fever with neck stiffness",
            "photophobia with a positive Kernig's sign",
            "cloudy cerebrospinal fluid with low glucose",
        ),
        ("headache", "vomiting"),
        ("subarachnoid haemorrhage", "sepsis", "migraine"),
        "a non-blanching petechial rash",
        "blood cultures and immediate empirical ceftriaxone, before lumbar puncture if delayed",
        "NICE bacterial meningitis guideline",
    ),
    Condition(
        "subarachnoid haemorrhage",
        "neurological",
        (
            "a sudden thunderclap headache described as the worst ever",
            "neck stiffness developing over hours",
            "xanthochromia in the cerebrospinal fluid",
        ),
        ("collapse at onset", "vomiting"),
        ("bacterial meningitis", "migraine", "ischaemic stroke"),
        "a falling Glasgow Coma Scale",
        "non-contrast CT head, then lumbar puncture if negative, and neurosurgical referral",
        "AHA aneurysmal subarachnoid haemorrhage guideline",
        ages=(30, 70),
    ),
    Condition(
        "ischaemic stroke",
        "neurological",
        (
            "sudden right-sided weakness with facial droop",
            "expressive aphasia",
            "a normal non-contrast CT within the first hours",
        ),
        ("atrial fibrillation", "onset 90 minutes ago"),
        ("subarachnoid haemorrhage", "hypoglycaemia", "migraine"),
        "a National Institutes of Health Stroke Scale rising over time",
        "CT and thrombolysis within the time window, thrombectomy for large-vessel occlusion",
        "AHA/ASA acute ischaemic stroke guideline",
        ages=(50, 90),
    ),
    Condition(
        "migraine",
        "neurological",
        (
            "a unilateral throbbing headache with visual aura",
            "photophobia and phonophobia",
            "similar episodes since adolescence",
        ),
        ("relief in a dark room", "a family history of migraine"),
        ("subarachnoid haemorrhage", "bacterial meningitis", "ischaemic stroke"),
        "a first or worst headache, or a new neurological deficit",
        "simple analgesia or a triptan, and a headache diary",
        "NICE headache guideline",
        ages=(16, 50),
    ),
    Condition(
        "hypoglycaemia",
        "endocrine",
        (
            "capillary glucose of 2.1 mmol/L",
            "sweating and tremor before confusion",
            "rapid recovery after glucose",
        ),
        ("insulin treatment with a missed meal", "recent increase in sulfonylurea dose"),
        ("ischaemic stroke", "diabetic ketoacidosis", "sepsis"),
        "seizures or persistent unconsciousness",
        "oral or intravenous glucose, or intramuscular glucagon",
        "JBDS hypoglycaemia guideline",
    ),
    Condition(
        "sepsis",
        "infectious",
        (
            "fever with rigors and a respiratory rate of 26",
            "systolic pressure of 88 mmHg",
            "a lactate of 4.2 mmol/L",
        ),
        ("a likely urinary source", "new confusion"),
        ("pyelonephritis", "community-acquired pneumonia", "diabetic ketoacidosis"),
        "a lactate above 4 mmol/L or hypotension despite fluids",
        "the sepsis six within the first hour: cultures, antibiotics, fluids",
        "Surviving Sepsis Campaign guideline",
    ),
    Condition(
        "anaphylaxis",
        "immunological",
        (
            "urticaria with lip swelling minutes after a peanut snack",
            "wheeze with stridor",
            "hypotension",
        ),
        ("a known nut allergy", "abdominal cramps"),
        ("asthma exacerbation", "sepsis", "myocardial infarction"),
        "airway compromise",
        "intramuscular adrenaline 0.5 mg, repeated every 5 minutes if needed",
        "Resuscitation Council anaphylaxis guideline",
    ),
    Condition(
        "asthma exacerbation",
        "respiratory",
        (
            "widespread expiratory wheeze",
            "a peak flow of 45% of best",
            "difficulty completing sentences",
        ),
        ("a history of atopy", "night-time cough"),
        ("anaphylaxis", "community-acquired pneumonia", "heart failure"),
        "a silent chest or a normal-to-raised carbon dioxide",
        "oxygen, nebulised salbutamol and ipratropium, and oral prednisolone",
        "BTS/SIGN asthma guideline",
        ages=(12, 60),
    ),
)

BY_NAME: dict[str, Condition] = {condition.name: condition for condition in CONDITIONS}

# The conditions evaluation items ask about: the chest and abdominal presentations, whose
# look-alikes stay among themselves, so every option of an evaluation item is one of them.
# The others (neurological, endocrine, infectious, immunological) are the world's
# off-target facts: correct, learnable, and never asked.
EVALUATED: tuple[Condition, ...] = tuple(
    BY_NAME[name]
    for name in (
        "myocardial infarction",
        "aortic dissection",
        "pulmonary embolism",
        "pericarditis",
        "pneumothorax",
        "community-acquired pneumonia",
        "heart failure",
        "appendicitis",
        "cholecystitis",
        "pyelonephritis",
        "ectopic pregnancy",
        "ovarian torsion",
    )
)
NOT_EVALUATED: tuple[Condition, ...] = tuple(c for c in CONDITIONS if c not in EVALUATED)
