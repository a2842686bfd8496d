"""Unit names accepted in experiment files, with their values in SI and their
dimensions: Brian2 2.9.0's names, so that a quantity reads without importing
Brian2. Written by tests/unit_table.py; tests/test_quantities.py checks it against
Brian2. Do not edit by hand."""

# per dimension a line 'exponents of m kg s A K mol cd|', then its names: name:scale
# for a unit of value 10.0**scale (a Brian2 Unit), name=value for another quantity
TABLE = """
0 0 0 1 0 0 0|
  pamp:-12 namp:-9 uamp:-6 mamp:-3 amp:0 kamp:3 Mamp:6 Gamp:9 Tamp:12 mA:-3 uA:-6 nA:-9 pA:-12
  ampere:0 aamp:-18 camp:-2 Zamp:21 Pamp:15 damp:-1 famp:-15 hamp:2 daamp:1 yamp:-24 Eamp:18
  zamp:-21 Yamp:24 aampere:-18 campere:-2 Zampere:21 Pampere:15 dampere:-1 Gampere:9 fampere:-15
  hampere:2 daampere:1 mampere:-3 nampere:-9 pampere:-12 uampere:-6 Tampere:12 yampere:-24
  Eampere:18 zampere:-21 Mampere:6 kampere:3 Yampere:24 A:0
0 0 0 0 1 0 0|
  kelvin:0
0 1 0 0 0 0 0|
  kilogram:0 pgram:-15 ngram:-12 ugram:-9 mgram:-6 gram:-3 kgram:0 Mgram:3 Ggram:6 Tgram:9
  pgramme:-15 ngramme:-12 ugramme:-9 mgramme:-6 gramme:-3 kgramme:0 Mgramme:3 Ggramme:6
  Tgramme:9 kilogramme:0 agram:-21 cgram:-5 Zgram:18 Pgram:12 dgram:-4 fgram:-18 hgram:-1
  dagram:-2 ygram:-27 Egram:15 zgram:-24 Ygram:21 agramme:-21 cgramme:-5 Zgramme:18 Pgramme:12
  dgramme:-4 fgramme:-18 hgramme:-1 dagramme:-2 ygramme:-27 Egramme:15 zgramme:-24 Ygramme:21
1 0 0 0 0 0 0|
  pmetre:-12 nmetre:-9 umetre:-6 mmetre:-3 metre:0 kmetre:3 Mmetre:6 Gmetre:9 Tmetre:12
  pmeter:-12 nmeter:-9 umeter:-6 mmeter:-3 meter:0 kmeter:3 Mmeter:6 Gmeter:9 Tmeter:12
  cmetre:-2 cmeter:-2 cm:-2 mm:-3 um:-6 ametre:-18 Zmetre:21 Pmetre:15 dmetre:-1 fmetre:-15
  hmetre:2 dametre:1 ymetre:-24 Emetre:18 zmetre:-21 Ymetre:24 ameter:-18 Zmeter:21 Pmeter:15
  dmeter:-1 fmeter:-15 hmeter:2 dameter:1 ymeter:-24 Emeter:18 zmeter:-21 Ymeter:24 m:0
0 0 1 0 0 0 0|
  psecond:-12 nsecond:-9 usecond:-6 msecond:-3 second:0 ksecond:3 Msecond:6 Gsecond:9 Tsecond:12
  ms:-3 us:-6 asecond:-18 csecond:-2 Zsecond:21 Psecond:15 dsecond:-1 fsecond:-15 hsecond:2
  dasecond:1 ysecond:-24 Esecond:18 zsecond:-21 Ysecond:24 s:0 min=60.0
0 0 0 0 0 1 0|
  pmole:-12 nmole:-9 umole:-6 mmole:-3 mole:0 kmole:3 Mmole:6 Gmole:9 Tmole:12 mol:0 amole:-18
  cmole:-2 Zmole:21 Pmole:15 dmole:-1 fmole:-15 hmole:2 damole:1 ymole:-24 Emole:18 zmole:-21
  Ymole:24 amol:-18 cmol:-2 Zmol:21 Pmol:15 dmol:-1 Gmol:9 fmol:-15 hmol:2 damol:1 mmol:-3
  nmol:-9 pmol:-12 umol:-6 Tmol:12 ymol:-24 Emol:18 zmol:-21 Mmol:6 kmol:3 Ymol:24
0 0 1 1 0 0 0|
  pcoulomb:-12 ncoulomb:-9 ucoulomb:-6 mcoulomb:-3 coulomb:0 kcoulomb:3 Mcoulomb:6 Gcoulomb:9
  Tcoulomb:12 acoulomb:-18 ccoulomb:-2 Zcoulomb:21 Pcoulomb:15 dcoulomb:-1 fcoulomb:-15
  hcoulomb:2 dacoulomb:1 ycoulomb:-24 Ecoulomb:18 zcoulomb:-21 Ycoulomb:24
-2 -1 4 2 0 0 0|
  pfarad:-12 nfarad:-9 ufarad:-6 mfarad:-3 farad:0 kfarad:3 Mfarad:6 Gfarad:9 Tfarad:12 pF:-12
  uF:-6 nF:-9 afarad:-18 cfarad:-2 Zfarad:21 Pfarad:15 dfarad:-1 ffarad:-15 hfarad:2 dafarad:1
  yfarad:-24 Efarad:18 zfarad:-21 Yfarad:24 F:0
0 0 -1 0 0 0 0|
  phertz:-12 nhertz:-9 uhertz:-6 mhertz:-3 hertz:0 khertz:3 Mhertz:6 Ghertz:9 Thertz:12 Hz:0
  kHz:3 MHz:6 becquerel:0 ahertz:-18 chertz:-2 Zhertz:21 Phertz:15 dhertz:-1 fhertz:-15 hhertz:2
  dahertz:1 yhertz:-24 Ehertz:18 zhertz:-21 Yhertz:24 abecquerel:-18 cbecquerel:-2 Zbecquerel:21
  Pbecquerel:15 dbecquerel:-1 Gbecquerel:9 fbecquerel:-15 hbecquerel:2 dabecquerel:1
  mbecquerel:-3 nbecquerel:-9 pbecquerel:-12 ubecquerel:-6 Tbecquerel:12 ybecquerel:-24
  Ebecquerel:18 zbecquerel:-21 Mbecquerel:6 kbecquerel:3 Ybecquerel:24
2 1 -2 0 0 0 0|
  pjoule:-12 njoule:-9 ujoule:-6 mjoule:-3 joule:0 kjoule:3 Mjoule:6 Gjoule:9 Tjoule:12
  ajoule:-18 cjoule:-2 Zjoule:21 Pjoule:15 djoule:-1 fjoule:-15 hjoule:2 dajoule:1 yjoule:-24
  Ejoule:18 zjoule:-21 Yjoule:24
-3 0 0 0 0 1 0|
  pmolar:-9 nmolar:-6 umolar:-3 mmolar:0 molar:3 kmolar:6 Mmolar:9 Gmolar:12 Tmolar:15 mM:0
  uM:-3 nM:-6 amolar:-15 cmolar:1 Zmolar:24 Pmolar:18 dmolar:2 fmolar:-12 hmolar:5 damolar:4
  ymolar:-21 Emolar:21 zmolar:-18 Ymolar:27
3 0 0 0 0 0 0|
  pliter:-15 nliter:-12 uliter:-9 mliter:-6 liter:-3 kliter:0 Mliter:3 Gliter:6 Tliter:9
  plitre:-15 nlitre:-12 ulitre:-9 mlitre:-6 litre:-3 klitre:0 Mlitre:3 Glitre:6 Tlitre:9 cm3:-6
  mm3:-9 um3:-18 metre3:0 meter3:0 ametre3:-54 cmetre3:-6 Zmetre3:63 Pmetre3:45 dmetre3:-3
  Gmetre3:27 fmetre3:-45 hmetre3:6 dametre3:3 mmetre3:-9 nmetre3:-27 pmetre3:-36 umetre3:-18
  Tmetre3:36 ymetre3:-72 Emetre3:54 zmetre3:-63 Mmetre3:18 kmetre3:9 Ymetre3:72 ameter3:-54
  cmeter3:-6 Zmeter3:63 Pmeter3:45 dmeter3:-3 Gmeter3:27 fmeter3:-45 hmeter3:6 dameter3:3
  mmeter3:-9 nmeter3:-27 pmeter3:-36 umeter3:-18 Tmeter3:36 ymeter3:-72 Emeter3:54 zmeter3:-63
  Mmeter3:18 kmeter3:9 Ymeter3:72 aliter:-21 cliter:-5 Zliter:18 Pliter:12 dliter:-4 fliter:-18
  hliter:-1 daliter:-2 yliter:-27 Eliter:15 zliter:-24 Yliter:21 alitre:-21 clitre:-5 Zlitre:18
  Plitre:12 dlitre:-4 flitre:-18 hlitre:-1 dalitre:-2 ylitre:-27 Elitre:15 zlitre:-24 Ylitre:21
  unit:21
-1 1 -2 0 0 0 0|
  ppascal:-12 npascal:-9 upascal:-6 mpascal:-3 pascal:0 kpascal:3 Mpascal:6 Gpascal:9 Tpascal:12
  apascal:-18 cpascal:-2 Zpascal:21 Ppascal:15 dpascal:-1 fpascal:-15 hpascal:2 dapascal:1
  ypascal:-24 Epascal:18 zpascal:-21 Ypascal:24
2 1 -3 -2 0 0 0|
  pohm:-12 nohm:-9 uohm:-6 mohm:-3 ohm:0 kohm:3 Mohm:6 Gohm:9 Tohm:12 aohm:-18 cohm:-2 Zohm:21
  Pohm:15 dohm:-1 fohm:-15 hohm:2 daohm:1 yohm:-24 Eohm:18 zohm:-21 Yohm:24
-2 -1 3 2 0 0 0|
  psiemens:-12 nsiemens:-9 usiemens:-6 msiemens:-3 siemens:0 ksiemens:3 Msiemens:6 Gsiemens:9
  Tsiemens:12 nS:-9 uS:-6 mS:-3 asiemens:-18 csiemens:-2 Zsiemens:21 Psiemens:15 dsiemens:-1
  fsiemens:-15 hsiemens:2 dasiemens:1 ysiemens:-24 Esiemens:18 zsiemens:-21 Ysiemens:24 S:0
2 1 -3 -1 0 0 0|
  pvolt:-12 nvolt:-9 uvolt:-6 mvolt:-3 volt:0 kvolt:3 Mvolt:6 Gvolt:9 Tvolt:12 mV:-3 avolt:-18
  cvolt:-2 Zvolt:21 Pvolt:15 dvolt:-1 fvolt:-15 hvolt:2 davolt:1 yvolt:-24 Evolt:18 zvolt:-21
  Yvolt:24 V:0
2 1 -3 0 0 0 0|
  pwatt:-12 nwatt:-9 uwatt:-6 mwatt:-3 watt:0 kwatt:3 Mwatt:6 Gwatt:9 Twatt:12 awatt:-18
  cwatt:-2 Zwatt:21 Pwatt:15 dwatt:-1 fwatt:-15 hwatt:2 dawatt:1 ywatt:-24 Ewatt:18 zwatt:-21
  Ywatt:24
2 0 0 0 0 0 0|
  cm2:-4 mm2:-6 um2:-12 metre2:0 meter2:0 ametre2:-36 cmetre2:-4 Zmetre2:42 Pmetre2:30
  dmetre2:-2 Gmetre2:18 fmetre2:-30 hmetre2:4 dametre2:2 mmetre2:-6 nmetre2:-18 pmetre2:-24
  umetre2:-12 Tmetre2:24 ymetre2:-48 Emetre2:36 zmetre2:-42 Mmetre2:12 kmetre2:6 Ymetre2:48
  ameter2:-36 cmeter2:-4 Zmeter2:42 Pmeter2:30 dmeter2:-2 Gmeter2:18 fmeter2:-30 hmeter2:4
  dameter2:2 mmeter2:-6 nmeter2:-18 pmeter2:-24 umeter2:-12 Tmeter2:24 ymeter2:-48 Emeter2:36
  zmeter2:-42 Mmeter2:12 kmeter2:6 Ymeter2:48
0 0 0 0 0 0 1|
  candle:0 lumen:0 acandle:-18 ccandle:-2 Zcandle:21 Pcandle:15 dcandle:-1 Gcandle:9 fcandle:-15
  hcandle:2 dacandle:1 mcandle:-3 ncandle:-9 pcandle:-12 ucandle:-6 Tcandle:12 ycandle:-24
  Ecandle:18 zcandle:-21 Mcandle:6 kcandle:3 Ycandle:24 alumen:-18 clumen:-2 Zlumen:21 Plumen:15
  dlumen:-1 Glumen:9 flumen:-15 hlumen:2 dalumen:1 mlumen:-3 nlumen:-9 plumen:-12 ulumen:-6
  Tlumen:12 ylumen:-24 Elumen:18 zlumen:-21 Mlumen:6 klumen:3 Ylumen:24
0 0 0 0 0 0 0|
  radian:0 steradian:0 aradian:-18 cradian:-2 Zradian:21 Pradian:15 dradian:-1 Gradian:9
  fradian:-15 hradian:2 daradian:1 mradian:-3 nradian:-9 pradian:-12 uradian:-6 Tradian:12
  yradian:-24 Eradian:18 zradian:-21 Mradian:6 kradian:3 Yradian:24 asteradian:-18 csteradian:-2
  Zsteradian:21 Psteradian:15 dsteradian:-1 Gsteradian:9 fsteradian:-15 hsteradian:2
  dasteradian:1 msteradian:-3 nsteradian:-9 psteradian:-12 usteradian:-6 Tsteradian:12
  ysteradian:-24 Esteradian:18 zsteradian:-21 Msteradian:6 ksteradian:3 Ysteradian:24 radian2:0
  radian3:0 steradian2:0 steradian3:0 aradian2:-36 aradian3:-54 cradian2:-4 cradian3:-6
  Zradian2:42 Zradian3:63 Pradian2:30 Pradian3:45 dradian2:-2 dradian3:-3 Gradian2:18
  Gradian3:27 fradian2:-30 fradian3:-45 hradian2:4 hradian3:6 daradian2:2 daradian3:3
  mradian2:-6 mradian3:-9 nradian2:-18 nradian3:-27 pradian2:-24 pradian3:-36 uradian2:-12
  uradian3:-18 Tradian2:24 Tradian3:36 yradian2:-48 yradian3:-72 Eradian2:36 Eradian3:54
  zradian2:-42 zradian3:-63 Mradian2:12 Mradian3:18 kradian2:6 kradian3:9 Yradian2:48
  Yradian3:72 asteradian2:-36 asteradian3:-54 csteradian2:-4 csteradian3:-6 Zsteradian2:42
  Zsteradian3:63 Psteradian2:30 Psteradian3:45 dsteradian2:-2 dsteradian3:-3 Gsteradian2:18
  Gsteradian3:27 fsteradian2:-30 fsteradian3:-45 hsteradian2:4 hsteradian3:6 dasteradian2:2
  dasteradian3:3 msteradian2:-6 msteradian3:-9 nsteradian2:-18 nsteradian3:-27 psteradian2:-24
  psteradian3:-36 usteradian2:-12 usteradian3:-18 Tsteradian2:24 Tsteradian3:36 ysteradian2:-48
  ysteradian3:-72 Esteradian2:36 Esteradian3:54 zsteradian2:-42 zsteradian3:-63 Msteradian2:12
  Msteradian3:18 ksteradian2:6 ksteradian3:9 Ysteradian2:48 Ysteradian3:72
1 1 -2 0 0 0 0|
  newton:0 anewton:-18 cnewton:-2 Znewton:21 Pnewton:15 dnewton:-1 Gnewton:9 fnewton:-15
  hnewton:2 danewton:1 mnewton:-3 nnewton:-9 pnewton:-12 unewton:-6 Tnewton:12 ynewton:-24
  Enewton:18 znewton:-21 Mnewton:6 knewton:3 Ynewton:24
2 1 -2 -1 0 0 0|
  weber:0 aweber:-18 cweber:-2 Zweber:21 Pweber:15 dweber:-1 Gweber:9 fweber:-15 hweber:2
  daweber:1 mweber:-3 nweber:-9 pweber:-12 uweber:-6 Tweber:12 yweber:-24 Eweber:18 zweber:-21
  Mweber:6 kweber:3 Yweber:24
0 1 -2 -1 0 0 0|
  tesla:0 atesla:-18 ctesla:-2 Ztesla:21 Ptesla:15 dtesla:-1 Gtesla:9 ftesla:-15 htesla:2
  datesla:1 mtesla:-3 ntesla:-9 ptesla:-12 utesla:-6 Ttesla:12 ytesla:-24 Etesla:18 ztesla:-21
  Mtesla:6 ktesla:3 Ytesla:24
2 1 -2 -2 0 0 0|
  henry:0 ahenry:-18 chenry:-2 Zhenry:21 Phenry:15 dhenry:-1 Ghenry:9 fhenry:-15 hhenry:2
  dahenry:1 mhenry:-3 nhenry:-9 phenry:-12 uhenry:-6 Thenry:12 yhenry:-24 Ehenry:18 zhenry:-21
  Mhenry:6 khenry:3 Yhenry:24
-2 0 0 0 0 0 1|
  lux:0 alux:-18 clux:-2 Zlux:21 Plux:15 dlux:-1 Glux:9 flux:-15 hlux:2 dalux:1 mlux:-3 nlux:-9
  plux:-12 ulux:-6 Tlux:12 ylux:-24 Elux:18 zlux:-21 Mlux:6 klux:3 Ylux:24
2 0 -2 0 0 0 0|
  gray:0 sievert:0 agray:-18 cgray:-2 Zgray:21 Pgray:15 dgray:-1 Ggray:9 fgray:-15 hgray:2
  dagray:1 mgray:-3 ngray:-9 pgray:-12 ugray:-6 Tgray:12 ygray:-24 Egray:18 zgray:-21 Mgray:6
  kgray:3 Ygray:24 asievert:-18 csievert:-2 Zsievert:21 Psievert:15 dsievert:-1 Gsievert:9
  fsievert:-15 hsievert:2 dasievert:1 msievert:-3 nsievert:-9 psievert:-12 usievert:-6
  Tsievert:12 ysievert:-24 Esievert:18 zsievert:-21 Msievert:6 ksievert:3 Ysievert:24
0 0 -1 0 0 1 0|
  katal:0 akatal:-18 ckatal:-2 Zkatal:21 Pkatal:15 dkatal:-1 Gkatal:9 fkatal:-15 hkatal:2
  dakatal:1 mkatal:-3 nkatal:-9 pkatal:-12 ukatal:-6 Tkatal:12 ykatal:-24 Ekatal:18 zkatal:-21
  Mkatal:6 kkatal:3 Ykatal:24
0 2 0 0 0 0 0|
  kilogram2:0 kilogramme2:0 gram2:-6 gramme2:-6 agram2:-42 cgram2:-10 Zgram2:36 Pgram2:24
  dgram2:-8 Ggram2:12 fgram2:-36 hgram2:-2 dagram2:-4 mgram2:-12 ngram2:-24 pgram2:-30
  ugram2:-18 Tgram2:18 ygram2:-54 Egram2:30 zgram2:-48 Mgram2:6 kgram2:0 Ygram2:42 agramme2:-42
  cgramme2:-10 Zgramme2:36 Pgramme2:24 dgramme2:-8 Ggramme2:12 fgramme2:-36 hgramme2:-2
  dagramme2:-4 mgramme2:-12 ngramme2:-24 pgramme2:-30 ugramme2:-18 Tgramme2:18 ygramme2:-54
  Egramme2:30 zgramme2:-48 Mgramme2:6 kgramme2:0 Ygramme2:42
0 3 0 0 0 0 0|
  kilogram3:0 kilogramme3:0 gram3:-9 gramme3:-9 agram3:-63 cgram3:-15 Zgram3:54 Pgram3:36
  dgram3:-12 Ggram3:18 fgram3:-54 hgram3:-3 dagram3:-6 mgram3:-18 ngram3:-36 pgram3:-45
  ugram3:-27 Tgram3:27 ygram3:-81 Egram3:45 zgram3:-72 Mgram3:9 kgram3:0 Ygram3:63 agramme3:-63
  cgramme3:-15 Zgramme3:54 Pgramme3:36 dgramme3:-12 Ggramme3:18 fgramme3:-54 hgramme3:-3
  dagramme3:-6 mgramme3:-18 ngramme3:-36 pgramme3:-45 ugramme3:-27 Tgramme3:27 ygramme3:-81
  Egramme3:45 zgramme3:-72 Mgramme3:9 kgramme3:0 Ygramme3:63
0 0 2 0 0 0 0|
  second2:0 asecond2:-36 csecond2:-4 Zsecond2:42 Psecond2:30 dsecond2:-2 Gsecond2:18
  fsecond2:-30 hsecond2:4 dasecond2:2 msecond2:-6 nsecond2:-18 psecond2:-24 usecond2:-12
  Tsecond2:24 ysecond2:-48 Esecond2:36 zsecond2:-42 Msecond2:12 ksecond2:6 Ysecond2:48
0 0 3 0 0 0 0|
  second3:0 asecond3:-54 csecond3:-6 Zsecond3:63 Psecond3:45 dsecond3:-3 Gsecond3:27
  fsecond3:-45 hsecond3:6 dasecond3:3 msecond3:-9 nsecond3:-27 psecond3:-36 usecond3:-18
  Tsecond3:36 ysecond3:-72 Esecond3:54 zsecond3:-63 Msecond3:18 ksecond3:9 Ysecond3:72
0 0 0 2 0 0 0|
  amp2:0 ampere2:0 aamp2:-36 camp2:-4 Zamp2:42 Pamp2:30 damp2:-2 Gamp2:18 famp2:-30 hamp2:4
  daamp2:2 mamp2:-6 namp2:-18 pamp2:-24 uamp2:-12 Tamp2:24 yamp2:-48 Eamp2:36 zamp2:-42 Mamp2:12
  kamp2:6 Yamp2:48 aampere2:-36 campere2:-4 Zampere2:42 Pampere2:30 dampere2:-2 Gampere2:18
  fampere2:-30 hampere2:4 daampere2:2 mampere2:-6 nampere2:-18 pampere2:-24 uampere2:-12
  Tampere2:24 yampere2:-48 Eampere2:36 zampere2:-42 Mampere2:12 kampere2:6 Yampere2:48
0 0 0 3 0 0 0|
  amp3:0 ampere3:0 aamp3:-54 camp3:-6 Zamp3:63 Pamp3:45 damp3:-3 Gamp3:27 famp3:-45 hamp3:6
  daamp3:3 mamp3:-9 namp3:-27 pamp3:-36 uamp3:-18 Tamp3:36 yamp3:-72 Eamp3:54 zamp3:-63 Mamp3:18
  kamp3:9 Yamp3:72 aampere3:-54 campere3:-6 Zampere3:63 Pampere3:45 dampere3:-3 Gampere3:27
  fampere3:-45 hampere3:6 daampere3:3 mampere3:-9 nampere3:-27 pampere3:-36 uampere3:-18
  Tampere3:36 yampere3:-72 Eampere3:54 zampere3:-63 Mampere3:18 kampere3:9 Yampere3:72
0 0 0 0 2 0 0|
  kelvin2:0
0 0 0 0 3 0 0|
  kelvin3:0
0 0 0 0 0 2 0|
  mole2:0 mol2:0 amole2:-36 cmole2:-4 Zmole2:42 Pmole2:30 dmole2:-2 Gmole2:18 fmole2:-30
  hmole2:4 damole2:2 mmole2:-6 nmole2:-18 pmole2:-24 umole2:-12 Tmole2:24 ymole2:-48 Emole2:36
  zmole2:-42 Mmole2:12 kmole2:6 Ymole2:48 amol2:-36 cmol2:-4 Zmol2:42 Pmol2:30 dmol2:-2 Gmol2:18
  fmol2:-30 hmol2:4 damol2:2 mmol2:-6 nmol2:-18 pmol2:-24 umol2:-12 Tmol2:24 ymol2:-48 Emol2:36
  zmol2:-42 Mmol2:12 kmol2:6 Ymol2:48
0 0 0 0 0 3 0|
  mole3:0 mol3:0 amole3:-54 cmole3:-6 Zmole3:63 Pmole3:45 dmole3:-3 Gmole3:27 fmole3:-45
  hmole3:6 damole3:3 mmole3:-9 nmole3:-27 pmole3:-36 umole3:-18 Tmole3:36 ymole3:-72 Emole3:54
  zmole3:-63 Mmole3:18 kmole3:9 Ymole3:72 amol3:-54 cmol3:-6 Zmol3:63 Pmol3:45 dmol3:-3 Gmol3:27
  fmol3:-45 hmol3:6 damol3:3 mmol3:-9 nmol3:-27 pmol3:-36 umol3:-18 Tmol3:36 ymol3:-72 Emol3:54
  zmol3:-63 Mmol3:18 kmol3:9 Ymol3:72
0 0 0 0 0 0 2|
  candle2:0 lumen2:0 acandle2:-36 ccandle2:-4 Zcandle2:42 Pcandle2:30 dcandle2:-2 Gcandle2:18
  fcandle2:-30 hcandle2:4 dacandle2:2 mcandle2:-6 ncandle2:-18 pcandle2:-24 ucandle2:-12
  Tcandle2:24 ycandle2:-48 Ecandle2:36 zcandle2:-42 Mcandle2:12 kcandle2:6 Ycandle2:48
  alumen2:-36 clumen2:-4 Zlumen2:42 Plumen2:30 dlumen2:-2 Glumen2:18 flumen2:-30 hlumen2:4
  dalumen2:2 mlumen2:-6 nlumen2:-18 plumen2:-24 ulumen2:-12 Tlumen2:24 ylumen2:-48 Elumen2:36
  zlumen2:-42 Mlumen2:12 klumen2:6 Ylumen2:48
0 0 0 0 0 0 3|
  candle3:0 lumen3:0 acandle3:-54 ccandle3:-6 Zcandle3:63 Pcandle3:45 dcandle3:-3 Gcandle3:27
  fcandle3:-45 hcandle3:6 dacandle3:3 mcandle3:-9 ncandle3:-27 pcandle3:-36 ucandle3:-18
  Tcandle3:36 ycandle3:-72 Ecandle3:54 zcandle3:-63 Mcandle3:18 kcandle3:9 Ycandle3:72
  alumen3:-54 clumen3:-6 Zlumen3:63 Plumen3:45 dlumen3:-3 Glumen3:27 flumen3:-45 hlumen3:6
  dalumen3:3 mlumen3:-9 nlumen3:-27 plumen3:-36 ulumen3:-18 Tlumen3:36 ylumen3:-72 Elumen3:54
  zlumen3:-63 Mlumen3:18 klumen3:9 Ylumen3:72
-6 0 0 0 0 2 0|
  molar2:6 amolar2:-30 cmolar2:2 Zmolar2:48 Pmolar2:36 dmolar2:4 Gmolar2:24 fmolar2:-24
  hmolar2:10 damolar2:8 mmolar2:0 nmolar2:-12 pmolar2:-18 umolar2:-6 Tmolar2:30 ymolar2:-42
  Emolar2:42 zmolar2:-36 Mmolar2:18 kmolar2:12 Ymolar2:54
-9 0 0 0 0 3 0|
  molar3:9 amolar3:-45 cmolar3:3 Zmolar3:72 Pmolar3:54 dmolar3:6 Gmolar3:36 fmolar3:-36
  hmolar3:15 damolar3:12 mmolar3:0 nmolar3:-18 pmolar3:-27 umolar3:-9 Tmolar3:45 ymolar3:-63
  Emolar3:63 zmolar3:-54 Mmolar3:27 kmolar3:18 Ymolar3:81
0 0 -2 0 0 0 0|
  hertz2:0 becquerel2:0 ahertz2:-36 chertz2:-4 Zhertz2:42 Phertz2:30 dhertz2:-2 Ghertz2:18
  fhertz2:-30 hhertz2:4 dahertz2:2 mhertz2:-6 nhertz2:-18 phertz2:-24 uhertz2:-12 Thertz2:24
  yhertz2:-48 Ehertz2:36 zhertz2:-42 Mhertz2:12 khertz2:6 Yhertz2:48 abecquerel2:-36
  cbecquerel2:-4 Zbecquerel2:42 Pbecquerel2:30 dbecquerel2:-2 Gbecquerel2:18 fbecquerel2:-30
  hbecquerel2:4 dabecquerel2:2 mbecquerel2:-6 nbecquerel2:-18 pbecquerel2:-24 ubecquerel2:-12
  Tbecquerel2:24 ybecquerel2:-48 Ebecquerel2:36 zbecquerel2:-42 Mbecquerel2:12 kbecquerel2:6
  Ybecquerel2:48
0 0 -3 0 0 0 0|
  hertz3:0 becquerel3:0 ahertz3:-54 chertz3:-6 Zhertz3:63 Phertz3:45 dhertz3:-3 Ghertz3:27
  fhertz3:-45 hhertz3:6 dahertz3:3 mhertz3:-9 nhertz3:-27 phertz3:-36 uhertz3:-18 Thertz3:36
  yhertz3:-72 Ehertz3:54 zhertz3:-63 Mhertz3:18 khertz3:9 Yhertz3:72 abecquerel3:-54
  cbecquerel3:-6 Zbecquerel3:63 Pbecquerel3:45 dbecquerel3:-3 Gbecquerel3:27 fbecquerel3:-45
  hbecquerel3:6 dabecquerel3:3 mbecquerel3:-9 nbecquerel3:-27 pbecquerel3:-36 ubecquerel3:-18
  Tbecquerel3:36 ybecquerel3:-72 Ebecquerel3:54 zbecquerel3:-63 Mbecquerel3:18 kbecquerel3:9
  Ybecquerel3:72
2 2 -4 0 0 0 0|
  newton2:0 anewton2:-36 cnewton2:-4 Znewton2:42 Pnewton2:30 dnewton2:-2 Gnewton2:18
  fnewton2:-30 hnewton2:4 danewton2:2 mnewton2:-6 nnewton2:-18 pnewton2:-24 unewton2:-12
  Tnewton2:24 ynewton2:-48 Enewton2:36 znewton2:-42 Mnewton2:12 knewton2:6 Ynewton2:48
3 3 -6 0 0 0 0|
  newton3:0 anewton3:-54 cnewton3:-6 Znewton3:63 Pnewton3:45 dnewton3:-3 Gnewton3:27
  fnewton3:-45 hnewton3:6 danewton3:3 mnewton3:-9 nnewton3:-27 pnewton3:-36 unewton3:-18
  Tnewton3:36 ynewton3:-72 Enewton3:54 znewton3:-63 Mnewton3:18 knewton3:9 Ynewton3:72
-2 2 -4 0 0 0 0|
  pascal2:0 apascal2:-36 cpascal2:-4 Zpascal2:42 Ppascal2:30 dpascal2:-2 Gpascal2:18
  fpascal2:-30 hpascal2:4 dapascal2:2 mpascal2:-6 npascal2:-18 ppascal2:-24 upascal2:-12
  Tpascal2:24 ypascal2:-48 Epascal2:36 zpascal2:-42 Mpascal2:12 kpascal2:6 Ypascal2:48
-3 3 -6 0 0 0 0|
  pascal3:0 apascal3:-54 cpascal3:-6 Zpascal3:63 Ppascal3:45 dpascal3:-3 Gpascal3:27
  fpascal3:-45 hpascal3:6 dapascal3:3 mpascal3:-9 npascal3:-27 ppascal3:-36 upascal3:-18
  Tpascal3:36 ypascal3:-72 Epascal3:54 zpascal3:-63 Mpascal3:18 kpascal3:9 Ypascal3:72
4 2 -4 0 0 0 0|
  joule2:0 ajoule2:-36 cjoule2:-4 Zjoule2:42 Pjoule2:30 djoule2:-2 Gjoule2:18 fjoule2:-30
  hjoule2:4 dajoule2:2 mjoule2:-6 njoule2:-18 pjoule2:-24 ujoule2:-12 Tjoule2:24 yjoule2:-48
  Ejoule2:36 zjoule2:-42 Mjoule2:12 kjoule2:6 Yjoule2:48
6 3 -6 0 0 0 0|
  joule3:0 ajoule3:-54 cjoule3:-6 Zjoule3:63 Pjoule3:45 djoule3:-3 Gjoule3:27 fjoule3:-45
  hjoule3:6 dajoule3:3 mjoule3:-9 njoule3:-27 pjoule3:-36 ujoule3:-18 Tjoule3:36 yjoule3:-72
  Ejoule3:54 zjoule3:-63 Mjoule3:18 kjoule3:9 Yjoule3:72
4 2 -6 0 0 0 0|
  watt2:0 awatt2:-36 cwatt2:-4 Zwatt2:42 Pwatt2:30 dwatt2:-2 Gwatt2:18 fwatt2:-30 hwatt2:4
  dawatt2:2 mwatt2:-6 nwatt2:-18 pwatt2:-24 uwatt2:-12 Twatt2:24 ywatt2:-48 Ewatt2:36 zwatt2:-42
  Mwatt2:12 kwatt2:6 Ywatt2:48
6 3 -9 0 0 0 0|
  watt3:0 awatt3:-54 cwatt3:-6 Zwatt3:63 Pwatt3:45 dwatt3:-3 Gwatt3:27 fwatt3:-45 hwatt3:6
  dawatt3:3 mwatt3:-9 nwatt3:-27 pwatt3:-36 uwatt3:-18 Twatt3:36 ywatt3:-72 Ewatt3:54 zwatt3:-63
  Mwatt3:18 kwatt3:9 Ywatt3:72
0 0 2 2 0 0 0|
  coulomb2:0 acoulomb2:-36 ccoulomb2:-4 Zcoulomb2:42 Pcoulomb2:30 dcoulomb2:-2 Gcoulomb2:18
  fcoulomb2:-30 hcoulomb2:4 dacoulomb2:2 mcoulomb2:-6 ncoulomb2:-18 pcoulomb2:-24 ucoulomb2:-12
  Tcoulomb2:24 ycoulomb2:-48 Ecoulomb2:36 zcoulomb2:-42 Mcoulomb2:12 kcoulomb2:6 Ycoulomb2:48
0 0 3 3 0 0 0|
  coulomb3:0 acoulomb3:-54 ccoulomb3:-6 Zcoulomb3:63 Pcoulomb3:45 dcoulomb3:-3 Gcoulomb3:27
  fcoulomb3:-45 hcoulomb3:6 dacoulomb3:3 mcoulomb3:-9 ncoulomb3:-27 pcoulomb3:-36 ucoulomb3:-18
  Tcoulomb3:36 ycoulomb3:-72 Ecoulomb3:54 zcoulomb3:-63 Mcoulomb3:18 kcoulomb3:9 Ycoulomb3:72
4 2 -6 -2 0 0 0|
  volt2:0 avolt2:-36 cvolt2:-4 Zvolt2:42 Pvolt2:30 dvolt2:-2 Gvolt2:18 fvolt2:-30 hvolt2:4
  davolt2:2 mvolt2:-6 nvolt2:-18 pvolt2:-24 uvolt2:-12 Tvolt2:24 yvolt2:-48 Evolt2:36 zvolt2:-42
  Mvolt2:12 kvolt2:6 Yvolt2:48
6 3 -9 -3 0 0 0|
  volt3:0 avolt3:-54 cvolt3:-6 Zvolt3:63 Pvolt3:45 dvolt3:-3 Gvolt3:27 fvolt3:-45 hvolt3:6
  davolt3:3 mvolt3:-9 nvolt3:-27 pvolt3:-36 uvolt3:-18 Tvolt3:36 yvolt3:-72 Evolt3:54 zvolt3:-63
  Mvolt3:18 kvolt3:9 Yvolt3:72
-4 -2 8 4 0 0 0|
  farad2:0 afarad2:-36 cfarad2:-4 Zfarad2:42 Pfarad2:30 dfarad2:-2 Gfarad2:18 ffarad2:-30
  hfarad2:4 dafarad2:2 mfarad2:-6 nfarad2:-18 pfarad2:-24 ufarad2:-12 Tfarad2:24 yfarad2:-48
  Efarad2:36 zfarad2:-42 Mfarad2:12 kfarad2:6 Yfarad2:48
-6 -3 12 6 0 0 0|
  farad3:0 afarad3:-54 cfarad3:-6 Zfarad3:63 Pfarad3:45 dfarad3:-3 Gfarad3:27 ffarad3:-45
  hfarad3:6 dafarad3:3 mfarad3:-9 nfarad3:-27 pfarad3:-36 ufarad3:-18 Tfarad3:36 yfarad3:-72
  Efarad3:54 zfarad3:-63 Mfarad3:18 kfarad3:9 Yfarad3:72
4 2 -6 -4 0 0 0|
  ohm2:0 aohm2:-36 cohm2:-4 Zohm2:42 Pohm2:30 dohm2:-2 Gohm2:18 fohm2:-30 hohm2:4 daohm2:2
  mohm2:-6 nohm2:-18 pohm2:-24 uohm2:-12 Tohm2:24 yohm2:-48 Eohm2:36 zohm2:-42 Mohm2:12 kohm2:6
  Yohm2:48
6 3 -9 -6 0 0 0|
  ohm3:0 aohm3:-54 cohm3:-6 Zohm3:63 Pohm3:45 dohm3:-3 Gohm3:27 fohm3:-45 hohm3:6 daohm3:3
  mohm3:-9 nohm3:-27 pohm3:-36 uohm3:-18 Tohm3:36 yohm3:-72 Eohm3:54 zohm3:-63 Mohm3:18 kohm3:9
  Yohm3:72
-4 -2 6 4 0 0 0|
  siemens2:0 asiemens2:-36 csiemens2:-4 Zsiemens2:42 Psiemens2:30 dsiemens2:-2 Gsiemens2:18
  fsiemens2:-30 hsiemens2:4 dasiemens2:2 msiemens2:-6 nsiemens2:-18 psiemens2:-24 usiemens2:-12
  Tsiemens2:24 ysiemens2:-48 Esiemens2:36 zsiemens2:-42 Msiemens2:12 ksiemens2:6 Ysiemens2:48
-6 -3 9 6 0 0 0|
  siemens3:0 asiemens3:-54 csiemens3:-6 Zsiemens3:63 Psiemens3:45 dsiemens3:-3 Gsiemens3:27
  fsiemens3:-45 hsiemens3:6 dasiemens3:3 msiemens3:-9 nsiemens3:-27 psiemens3:-36 usiemens3:-18
  Tsiemens3:36 ysiemens3:-72 Esiemens3:54 zsiemens3:-63 Msiemens3:18 ksiemens3:9 Ysiemens3:72
4 2 -4 -2 0 0 0|
  weber2:0 aweber2:-36 cweber2:-4 Zweber2:42 Pweber2:30 dweber2:-2 Gweber2:18 fweber2:-30
  hweber2:4 daweber2:2 mweber2:-6 nweber2:-18 pweber2:-24 uweber2:-12 Tweber2:24 yweber2:-48
  Eweber2:36 zweber2:-42 Mweber2:12 kweber2:6 Yweber2:48
6 3 -6 -3 0 0 0|
  weber3:0 aweber3:-54 cweber3:-6 Zweber3:63 Pweber3:45 dweber3:-3 Gweber3:27 fweber3:-45
  hweber3:6 daweber3:3 mweber3:-9 nweber3:-27 pweber3:-36 uweber3:-18 Tweber3:36 yweber3:-72
  Eweber3:54 zweber3:-63 Mweber3:18 kweber3:9 Yweber3:72
0 2 -4 -2 0 0 0|
  tesla2:0 atesla2:-36 ctesla2:-4 Ztesla2:42 Ptesla2:30 dtesla2:-2 Gtesla2:18 ftesla2:-30
  htesla2:4 datesla2:2 mtesla2:-6 ntesla2:-18 ptesla2:-24 utesla2:-12 Ttesla2:24 ytesla2:-48
  Etesla2:36 ztesla2:-42 Mtesla2:12 ktesla2:6 Ytesla2:48
0 3 -6 -3 0 0 0|
  tesla3:0 atesla3:-54 ctesla3:-6 Ztesla3:63 Ptesla3:45 dtesla3:-3 Gtesla3:27 ftesla3:-45
  htesla3:6 datesla3:3 mtesla3:-9 ntesla3:-27 ptesla3:-36 utesla3:-18 Ttesla3:36 ytesla3:-72
  Etesla3:54 ztesla3:-63 Mtesla3:18 ktesla3:9 Ytesla3:72
4 2 -4 -4 0 0 0|
  henry2:0 ahenry2:-36 chenry2:-4 Zhenry2:42 Phenry2:30 dhenry2:-2 Ghenry2:18 fhenry2:-30
  hhenry2:4 dahenry2:2 mhenry2:-6 nhenry2:-18 phenry2:-24 uhenry2:-12 Thenry2:24 yhenry2:-48
  Ehenry2:36 zhenry2:-42 Mhenry2:12 khenry2:6 Yhenry2:48
6 3 -6 -6 0 0 0|
  henry3:0 ahenry3:-54 chenry3:-6 Zhenry3:63 Phenry3:45 dhenry3:-3 Ghenry3:27 fhenry3:-45
  hhenry3:6 dahenry3:3 mhenry3:-9 nhenry3:-27 phenry3:-36 uhenry3:-18 Thenry3:36 yhenry3:-72
  Ehenry3:54 zhenry3:-63 Mhenry3:18 khenry3:9 Yhenry3:72
-4 0 0 0 0 0 2|
  lux2:0 alux2:-36 clux2:-4 Zlux2:42 Plux2:30 dlux2:-2 Glux2:18 flux2:-30 hlux2:4 dalux2:2
  mlux2:-6 nlux2:-18 plux2:-24 ulux2:-12 Tlux2:24 ylux2:-48 Elux2:36 zlux2:-42 Mlux2:12 klux2:6
  Ylux2:48
-6 0 0 0 0 0 3|
  lux3:0 alux3:-54 clux3:-6 Zlux3:63 Plux3:45 dlux3:-3 Glux3:27 flux3:-45 hlux3:6 dalux3:3
  mlux3:-9 nlux3:-27 plux3:-36 ulux3:-18 Tlux3:36 ylux3:-72 Elux3:54 zlux3:-63 Mlux3:18 klux3:9
  Ylux3:72
4 0 -4 0 0 0 0|
  gray2:0 sievert2:0 agray2:-36 cgray2:-4 Zgray2:42 Pgray2:30 dgray2:-2 Ggray2:18 fgray2:-30
  hgray2:4 dagray2:2 mgray2:-6 ngray2:-18 pgray2:-24 ugray2:-12 Tgray2:24 ygray2:-48 Egray2:36
  zgray2:-42 Mgray2:12 kgray2:6 Ygray2:48 asievert2:-36 csievert2:-4 Zsievert2:42 Psievert2:30
  dsievert2:-2 Gsievert2:18 fsievert2:-30 hsievert2:4 dasievert2:2 msievert2:-6 nsievert2:-18
  psievert2:-24 usievert2:-12 Tsievert2:24 ysievert2:-48 Esievert2:36 zsievert2:-42 Msievert2:12
  ksievert2:6 Ysievert2:48
6 0 -6 0 0 0 0|
  gray3:0 sievert3:0 agray3:-54 cgray3:-6 Zgray3:63 Pgray3:45 dgray3:-3 Ggray3:27 fgray3:-45
  hgray3:6 dagray3:3 mgray3:-9 ngray3:-27 pgray3:-36 ugray3:-18 Tgray3:36 ygray3:-72 Egray3:54
  zgray3:-63 Mgray3:18 kgray3:9 Ygray3:72 asievert3:-54 csievert3:-6 Zsievert3:63 Psievert3:45
  dsievert3:-3 Gsievert3:27 fsievert3:-45 hsievert3:6 dasievert3:3 msievert3:-9 nsievert3:-27
  psievert3:-36 usievert3:-18 Tsievert3:36 ysievert3:-72 Esievert3:54 zsievert3:-63 Msievert3:18
  ksievert3:9 Ysievert3:72
0 0 -2 0 0 2 0|
  katal2:0 akatal2:-36 ckatal2:-4 Zkatal2:42 Pkatal2:30 dkatal2:-2 Gkatal2:18 fkatal2:-30
  hkatal2:4 dakatal2:2 mkatal2:-6 nkatal2:-18 pkatal2:-24 ukatal2:-12 Tkatal2:24 ykatal2:-48
  Ekatal2:36 zkatal2:-42 Mkatal2:12 kkatal2:6 Ykatal2:48
0 0 -3 0 0 3 0|
  katal3:0 akatal3:-54 ckatal3:-6 Zkatal3:63 Pkatal3:45 dkatal3:-3 Gkatal3:27 fkatal3:-45
  hkatal3:6 dakatal3:3 mkatal3:-9 nkatal3:-27 pkatal3:-36 ukatal3:-18 Tkatal3:36 ykatal3:-72
  Ekatal3:54 zkatal3:-63 Mkatal3:18 kkatal3:9 Ykatal3:72
"""
