#pragma once
/* kdpinn: knowledge distillation of physics-informed neural networks across scales. Umbrella header. */
#include <kdsys.h>
#include <kdreference.h>
#include <kdsolver.h>
#include <kdnet.h>
#include <kdpde.h>
#include <kdtrain.h>
#include <kddistill.h>
#include <kdvalidate.h>
#include <kdexport.h>
#include <kdstages.h>
