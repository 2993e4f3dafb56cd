use koshi_gravity::*;
