"""What the synthetic hospital knows about medicine: conditions, codes, words, drugs, units.

Chronic conditions cover every Charlson category (Quan's ICD-10 mapping, Charlson weights);
each has ICD-10-CM codes (dotted), the words clinicians use for it (abbreviations first, so a
site that prefers abbreviations can pick from the front), age-dependent prevalence and
year-appropriate drugs. Acute principal diagnoses are listed per department.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Condition:
    key: str
    # Charlson category (pycomorb's Quan mapping) or None for conditions Charlson ignores.
    charlson: str | None
    # Charlson weight of the category (Charlson 1987); 0 for non-Charlson conditions.
    weight: int
    codes: tuple[str, ...]
    # How notes name it; abbreviations first.
    words: tuple[str, ...]
    # Prevalence model: P(onset by age x) = pmax * sigmoid((x - mid) / scale).
    pmax: float
    mid: float
    scale: float
    # (drug with dose, first year on the market / in routine use, last year in routine use)
    drugs: tuple[tuple[str, int, int], ...] = ()
    # Key of the condition this one develops from (its onset comes later), e.g. DM -> DM with
    # complications; the parent's code is then no longer written (the hierarchy Charlson uses).
    parent: str | None = None


# Prevalences are tuned so that the Charlson index of inpatient encounters (computed from
# their codes) lands near the study's distribution: 68% 0, 22% 1-2, 6% 3-4, 3% 5-7, 0.2% >7.
CONDITIONS: tuple[Condition, ...] = (
    Condition("mi", "Myocardial infarction", 1, ("I25.2",),
              ("hx MI", "prior MI", "s/p NSTEMI", "history of myocardial infarction", "old myocardial infarction"),
              0.06, 72, 9, (("aspirin 81 mg daily", 2000, 2100), ("clopidogrel 75 mg daily", 2000, 2100),
                            ("ticagrelor 90 mg BID", 2012, 2100))),
    Condition("chf", "Congestive heart failure", 1, ("I50.9", "I50.22", "I11.0"),
              ("CHF", "HFrEF", "congestive heart failure", "chronic systolic heart failure", "heart failure with reduced EF"),
              0.12, 76, 8, (("furosemide 40 mg daily", 2000, 2100), ("carvedilol 12.5 mg BID", 2000, 2100),
                            ("sacubitril-valsartan 49-51 mg BID", 2016, 2100), ("dapagliflozin 10 mg daily", 2020, 2100))),
    Condition("pvd", "Peripheral vascular disease", 1, ("I73.9", "I70.209"),
              ("PVD", "PAD", "peripheral vascular disease", "peripheral arterial disease"),
              0.05, 74, 8, (("cilostazol 100 mg BID", 2000, 2100),)),
    Condition("cvd", "Cerebrovascular disease", 1, ("I69.30", "G45.9"),
              ("hx CVA", "prior TIA", "s/p CVA", "history of stroke", "remote cerebrovascular accident"),
              0.08, 75, 9, (("atorvastatin 80 mg daily", 2003, 2100),)),
    Condition("dementia", "Dementia", 1, ("F03.90", "G30.9"),
              ("dementia", "Alzheimer's dementia", "major neurocognitive disorder"),
              0.12, 84, 6, (("donepezil 10 mg nightly", 2000, 2100), ("memantine 10 mg BID", 2004, 2100))),
    Condition("cpd", "Chronic pulmonary disease", 1, ("J44.9", "J45.909"),
              ("COPD", "asthma", "chronic obstructive pulmonary disease", "emphysema", "reactive airway disease"),
              0.06, 62, 14, (("albuterol MDI 2 puffs q4h PRN", 2000, 2100), ("tiotropium 18 mcg inhaled daily", 2004, 2100),
                             ("umeclidinium-vilanterol 62.5-25 mcg inhaled daily", 2014, 2100))),
    Condition("rheum", "Rheumatic disease", 1, ("M06.9", "M32.9"),
              ("RA", "SLE", "rheumatoid arthritis", "systemic lupus erythematosus"),
              0.025, 60, 12, (("methotrexate 15 mg weekly", 2000, 2100), ("hydroxychloroquine 200 mg BID", 2000, 2100),
                              ("tofacitinib 5 mg BID", 2013, 2100))),
    Condition("pud", "Peptic ulcer disease", 1, ("K27.9", "K25.7"),
              ("PUD", "peptic ulcer disease", "history of gastric ulcer"),
              0.025, 65, 12, (("pantoprazole 40 mg daily", 2000, 2100),)),
    Condition("liver_mild", "Mild liver disease", 1, ("K74.60", "B18.2", "K70.30"),
              ("HCV", "cirrhosis", "chronic hepatitis C", "alcoholic cirrhosis", "chronic liver disease"),
              0.03, 58, 10, (("interferon-ribavirin", 2000, 2013), ("sofosbuvir-velpatasvir 400-100 mg daily", 2016, 2100))),
    Condition("dm", "Diabetes without chronic complication", 1, ("E11.9", "E11.65"),
              ("DM2", "T2DM", "type 2 diabetes", "diabetes mellitus type II", "NIDDM"),
              0.14, 62, 11, (("metformin 1000 mg BID", 2000, 2100), ("glipizide 5 mg daily", 2000, 2015),
                             ("sitagliptin 100 mg daily", 2007, 2100), ("empagliflozin 10 mg daily", 2015, 2100),
                             ("semaglutide 1 mg weekly", 2018, 2100), ("tirzepatide 5 mg weekly", 2023, 2100))),
    Condition("dm_comp", "Diabetes with chronic complication", 2, ("E11.22", "E11.40", "E11.319"),
              ("DM2 w/ nephropathy", "diabetic neuropathy", "type 2 diabetes with diabetic CKD", "diabetic retinopathy"),
              0.5, 68, 8, (("insulin glargine 20 units nightly", 2001, 2100), ("insulin lispro sliding scale", 2000, 2100)),
              parent="dm"),
    Condition("hemiplegia", "Hemiplegia or paraplegia", 2, ("G81.90", "G82.20"),
              ("hemiplegia", "left hemiparesis", "paraplegia", "right-sided hemiplegia"),
              0.01, 60, 15, (("baclofen 10 mg TID", 2000, 2100),)),
    Condition("renal", "Renal disease", 2, ("N18.4", "N18.6"),
              ("CKD", "ESRD on HD", "chronic kidney disease stage 4", "end-stage renal disease on hemodialysis"),
              0.10, 72, 9, (("sevelamer 800 mg TID with meals", 2000, 2100), ("calcitriol 0.25 mcg daily", 2000, 2100))),
    Condition("cancer", "Any malignancy", 2, ("C34.90", "C50.911", "C18.9", "C61", "C85.90"),
              ("NSCLC", "lung cancer", "breast cancer", "colon cancer", "prostate cancer", "non-Hodgkin lymphoma"),
              0.10, 70, 9, (("ondansetron 8 mg q8h PRN", 2000, 2100), ("pembrolizumab per oncology", 2015, 2100),
                            ("anastrozole 1 mg daily", 2000, 2100))),
    Condition("liver_severe", "Moderate or severe liver disease", 3, ("K76.6", "I85.00"),
              ("portal HTN", "esophageal varices", "portal hypertension", "decompensated cirrhosis"),
              0.35, 64, 8, (("spironolactone 100 mg daily", 2000, 2100), ("lactulose 20 g TID", 2000, 2100),
                            ("rifaximin 550 mg BID", 2010, 2100)), parent="liver_mild"),
    Condition("mets", "Metastatic solid tumor", 6, ("C78.7", "C79.51", "C78.00"),
              ("mets", "metastatic disease", "liver metastases", "bone metastases", "stage IV disease"),
              0.042, 74, 8, (("oxycodone 5 mg q4h PRN", 2000, 2100), ("dexamethasone 4 mg daily", 2000, 2100)),
              parent="cancer"),
    Condition("hiv", "AIDS/HIV", 6, ("B20",),
              ("HIV", "HIV/AIDS", "HIV disease", "human immunodeficiency virus infection"),
              0.0015, 40, 10, (("efavirenz-emtricitabine-tenofovir 1 tab daily", 2006, 2017),
                              ("bictegravir-emtricitabine-tenofovir alafenamide 1 tab daily", 2018, 2100))),
    # Conditions Charlson ignores: they make problem lists realistic without moving the index.
    Condition("htn", None, 0, ("I10",), ("HTN", "hypertension", "essential hypertension"),
              0.55, 60, 10, (("lisinopril 20 mg daily", 2000, 2100), ("amlodipine 10 mg daily", 2000, 2100),
                             ("hydrochlorothiazide 25 mg daily", 2000, 2100))),
    Condition("hld", None, 0, ("E78.5",), ("HLD", "hyperlipidemia", "dyslipidemia"),
              0.45, 58, 10, (("simvastatin 40 mg nightly", 2000, 2012), ("atorvastatin 40 mg nightly", 2005, 2100),
                             ("rosuvastatin 20 mg nightly", 2008, 2100))),
    Condition("afib", None, 0, ("I48.91",), ("AF", "afib", "atrial fibrillation", "paroxysmal atrial fibrillation"),
              0.15, 78, 8, (("warfarin 5 mg daily", 2000, 2016), ("apixaban 5 mg BID", 2013, 2100),
                            ("metoprolol succinate 50 mg daily", 2000, 2100))),
    Condition("obesity", None, 0, ("E66.9",), ("obesity", "obesity (BMI > 30)"), 0.30, 40, 12),
    Condition("depression", None, 0, ("F32.9",), ("MDD", "depression", "major depressive disorder"),
              0.15, 35, 12, (("sertraline 50 mg daily", 2000, 2100), ("escitalopram 10 mg daily", 2003, 2100))),
    Condition("gerd", None, 0, ("K21.9",), ("GERD", "gastroesophageal reflux disease", "acid reflux"),
              0.18, 45, 12, (("omeprazole 20 mg daily", 2000, 2100),)),
    Condition("osa", None, 0, ("G47.33",), ("OSA", "obstructive sleep apnea", "OSA on CPAP"), 0.10, 55, 10),
    Condition("hypothyroid", None, 0, ("E03.9",), ("hypothyroidism", "hypothyroid"),
              0.10, 55, 12, (("levothyroxine 75 mcg daily", 2000, 2100),)),
)

COND_KEYS = tuple(c.key for c in CONDITIONS)
COND_INDEX = {k: i for i, k in enumerate(COND_KEYS)}
N_COND = len(CONDITIONS)


@dataclass(frozen=True)
class Department:
    key: str
    words: tuple[str, ...]  # how notes name the service
    # Principal diagnoses: (code, display words, chief-complaint phrase, condition required or
    # None, Charlson condition the code itself scores or None, relative weight)
    diagnoses: tuple[tuple[str, str, str, str | None, str | None, float], ...]
    # Shift of the latent acuity (SD units) for stays in this department.
    acuity: float = 0.0


DEPARTMENTS: tuple[Department, ...] = (
    Department("medicine", ("Medicine", "Internal Medicine", "Hospital Medicine"), (
        ("J18.9", "community-acquired pneumonia", "cough and fever", None, None, 3.0),
        ("A41.9", "sepsis, unspecified organism", "fever and confusion", None, None, 2.0),
        ("N39.0", "urinary tract infection", "dysuria and fever", None, None, 2.0),
        ("J44.1", "COPD exacerbation", "worsening shortness of breath", "cpd", "cpd", 2.0),
        ("I50.23", "acute on chronic systolic heart failure", "leg swelling and dyspnea", "chf", "chf", 2.5),
        ("K92.2", "gastrointestinal hemorrhage", "black stools", None, None, 1.5),
        ("L03.115", "cellulitis of right lower limb", "right leg redness", None, None, 1.5),
        ("E87.1", "hyponatremia", "weakness and nausea", None, None, 1.0),
        ("R55", "syncope and collapse", "passing out", None, None, 1.0),
        ("E11.65", "type 2 diabetes with hyperglycemia", "high blood sugars", "dm", "dm", 0.8),
    )),
    Department("cardiology", ("Cardiology", "Cardiac Care Unit", "Cardiovascular Medicine"), (
        ("I21.4", "NSTEMI", "chest pain", None, "mi", 1.0),
        ("I48.91", "atrial fibrillation with rapid ventricular response", "palpitations", None, None, 2.0),
        ("R07.9", "chest pain, unspecified", "chest pain", None, None, 2.0),
        ("I50.23", "acute on chronic systolic heart failure", "shortness of breath", "chf", "chf", 2.0),
    ), 0.1),
    Department("surgery", ("General Surgery", "Surgery", "Acute Care Surgery"), (
        ("K35.80", "acute appendicitis", "right lower quadrant pain", None, None, 2.0),
        ("K80.20", "symptomatic cholelithiasis", "right upper quadrant pain", None, None, 2.0),
        ("K56.609", "small bowel obstruction", "abdominal distension and vomiting", None, None, 1.5),
        ("K57.32", "diverticulitis of large intestine", "left lower quadrant pain", None, None, 1.5),
    ), -0.2),
    Department("orthopedics", ("Orthopedics", "Orthopaedic Surgery"), (
        ("S72.001A", "fracture of right femoral neck", "fall with hip pain", None, None, 2.0),
        ("M17.11", "primary osteoarthritis of right knee", "knee pain for elective arthroplasty", None, None, 2.0),
    ), -0.3),
    Department("neurology", ("Neurology", "Stroke Service"), (
        ("I63.9", "acute ischemic stroke", "left-sided weakness", None, "cvd", 1.5),
        ("G45.9", "transient ischemic attack", "transient slurred speech", None, "cvd", 0.5),
        ("G40.909", "seizure disorder", "seizure", None, None, 1.5),
        ("G43.909", "intractable migraine", "severe headache", None, None, 1.5),
        ("G93.40", "encephalopathy, unspecified", "confusion", None, None, 1.0),
    )),
    Department("obstetrics", ("Obstetrics", "Labor and Delivery"), (
        ("O80", "term pregnancy, delivered", "contractions", None, None, 3.0),
        ("O34.211", "prior cesarean delivery, scheduled repeat cesarean", "scheduled repeat cesarean", None, None, 1.0),
        ("O13.9", "gestational hypertension", "elevated blood pressure in pregnancy", None, None, 1.0),
    ), -1.0),
    Department("pediatrics", ("Pediatrics", "Pediatric Hospital Medicine"), (
        ("J21.9", "bronchiolitis", "cough and difficulty breathing", None, None, 2.0),
        ("J45.901", "asthma exacerbation", "wheezing", "cpd", "cpd", 2.0),
        ("A08.4", "viral gastroenteritis with dehydration", "vomiting and diarrhea", None, None, 2.0),
        ("R50.9", "fever, unspecified", "fever", None, None, 1.0),
    ), -0.6),
    Department("oncology", ("Oncology", "Hematology/Oncology"), (
        ("D70.1", "neutropenic fever after chemotherapy", "fever after chemotherapy", "cancer", None, 2.0),
        ("E86.0", "dehydration", "poor oral intake", "cancer", None, 1.0),
        ("G89.3", "cancer-related pain", "uncontrolled pain", "cancer", None, 1.5),
    ), 0.3),
    Department("psychiatry", ("Psychiatry", "Inpatient Psychiatry", "Behavioral Health"), (
        ("F32.2", "major depressive disorder, severe", "suicidal ideation", None, None, 2.0),
        ("F20.9", "schizophrenia", "auditory hallucinations", None, None, 1.5),
        ("F10.239", "alcohol withdrawal", "tremor after stopping alcohol", None, None, 1.5),
    ), -0.5),
    Department("rehabilitation", ("Rehabilitation", "Acute Inpatient Rehabilitation", "PM&R"), (
        ("I69.351", "hemiplegia following cerebral infarction", "rehabilitation after stroke", None, "cvd", 2.0),
        ("Z47.1", "aftercare following joint replacement", "rehabilitation after joint replacement", None, None, 2.0),
    ), -0.8),
    Department("dialysis", ("Dialysis", "Nephrology/Dialysis Unit"), (
        ("N18.6", "end-stage renal disease", "missed dialysis", "renal", "renal", 2.0),
        ("E87.5", "hyperkalemia", "weakness, missed dialysis", "renal", None, 1.0),
    ), 0.0),
    Department("palliative_care", ("Palliative Care", "Supportive and Palliative Care"), (
        ("Z51.5", "encounter for palliative care", "symptom management", None, None, 2.0),
    ), 0.8),
    # Non-inpatient departments.
    Department("emergency", ("Emergency Department", "ED"), (
        ("R07.9", "chest pain, unspecified", "chest pain", None, None, 2.0),
        ("R10.9", "abdominal pain, unspecified", "abdominal pain", None, None, 2.0),
        ("S93.401A", "sprain of right ankle", "ankle injury", None, None, 1.0),
        ("J06.9", "upper respiratory infection", "sore throat and cough", None, None, 1.5),
        ("R51.9", "headache", "headache", None, None, 1.0),
    )),
    Department("primary_care", ("Primary Care", "Internal Medicine Clinic", "Family Medicine"), (
        ("Z00.00", "general adult medical examination", "annual physical", None, None, 2.0),
        ("I10", "essential hypertension", "blood pressure follow-up", None, None, 2.0),
        ("E11.9", "type 2 diabetes", "diabetes follow-up", "dm", "dm", 1.5),
        ("J06.9", "upper respiratory infection", "cold symptoms", None, None, 1.0),
    )),
)

DEPT_KEYS = tuple(d.key for d in DEPARTMENTS)
DEPT_INDEX = {k: i for i, k in enumerate(DEPT_KEYS)}
# Departments whose stays are not index stays of the readmission task (src/lang1core/remede/tasks.py).
READMISSION_EXCLUDED = ("rehabilitation", "dialysis", "palliative_care")
INPATIENT_DEPTS = tuple(k for k in DEPT_KEYS if k not in ("emergency", "primary_care"))

COVID = ("U07.1", "COVID-19 pneumonia", "fever, cough and shortness of breath")
COVID_DRUGS = (("remdesivir 100 mg IV daily", 2020, 2022), ("dexamethasone 6 mg daily", 2020, 2100),
               ("nirmatrelvir-ritonavir", 2022, 2100))

PAYERS = ("medicare", "medicaid", "commercial", "self_pay", "other")
PAYER_WORDS = {
    "medicare": ("Medicare", "Medicare Part A", "MCR"),
    "medicaid": ("Medicaid", "Medicaid managed care", "MCD"),
    "commercial": ("Commercial", "Commercial PPO", "Private insurance"),
    "self_pay": ("Self-pay", "Uninsured", "Self pay"),
    "other": ("Workers compensation", "Tricare", "Other"),
}
RACES = ("white", "black", "asian", "other", "unknown")
ETHNICITIES = ("not hispanic or latino", "hispanic or latino", "unknown")
REGIONS = ("urban_core", "inner_suburb", "outer_suburb", "rural", "out_of_state")
DISPOSITIONS = ("home", "home_health", "snf", "rehab", "hospice", "ama", "expired")
DISPOSITION_WORDS = {
    "home": ("home", "home with family", "home, self-care"),
    "home_health": ("home with home health services", "home with VNS", "home with visiting nurse"),
    "snf": ("skilled nursing facility", "SNF", "subacute rehabilitation facility"),
    "rehab": ("acute inpatient rehabilitation", "inpatient rehab facility"),
    "hospice": ("hospice", "home hospice", "inpatient hospice"),
    "ama": ("left against medical advice", "left AMA"),
    "expired": ("expired",),
}
