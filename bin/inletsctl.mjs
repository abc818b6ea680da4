#!/usr/bin/env node
import '../dist/inletsctl/inletsctl.js';
